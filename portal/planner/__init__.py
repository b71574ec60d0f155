"""The season planner (统筹调训): requests for a season, the CP-SAT plan, accepting it."""
