"""Attendance: class supervisors, half-day sessions, QR sign-in, marks, leave, withdrawal."""
