"""Trainees (学员): rosters, trainee accounts, open runs, electives and the trainee's own pages."""
