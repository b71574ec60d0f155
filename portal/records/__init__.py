"""Training records (干部培训档案): 学时 per trainee, per class and per year, against the rules."""
