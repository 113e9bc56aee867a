"""Recurring work as data (pure): the `schedule` definition kind and the plan of one run."""
from .definition import ScheduleDefinition, parse_schedule
from .plan import Decision, plan_run, record_id_for, upcoming

__all__ = ["ScheduleDefinition", "parse_schedule", "Decision", "plan_run", "record_id_for", "upcoming"]
