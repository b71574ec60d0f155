"""Evaluations (教学评估): trainees score each stop of their class; aggregates for the rest."""
