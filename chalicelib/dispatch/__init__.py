"""Dispatch engine (pure): policy (definition JSON), hard rules, weighted scoring, and the global
min-cost batch assignment. No boto3, chalice or pynamodb here; services feed it engineers and orders."""
from .assignment import UNASSIGNED, Assignment, solve
from .batch import Planned, plan
from .geo import haversine_m
from .policy import DEFAULT_POLICY, DispatchPolicy, field_problems, parse_policy
from .rules import Engineer, engineer_from_record
from .scoring import Candidate, best, rank, why_none

__all__ = ["DispatchPolicy", "DEFAULT_POLICY", "parse_policy", "field_problems", "Engineer", "engineer_from_record",
           "Candidate", "rank", "best", "why_none", "plan", "Planned", "solve", "Assignment", "UNASSIGNED",
           "haversine_m"]
