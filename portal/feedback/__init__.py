"""Written feedback to units (书面反馈): per class, one report per sending unit on its trainees."""
