"""Workflow engine: ASL-style definitions with human tasks and approvals, run as pure functions."""
from .definition import WorkflowDefinition, parse_workflow
from .engine import StepError, available_actions, fire_timer, start, take_action
from .instance import Instance, Outcome, Task, Timer

__all__ = ["WorkflowDefinition", "parse_workflow", "StepError", "available_actions", "fire_timer", "start",
           "take_action", "Instance", "Outcome", "Task", "Timer"]
