"""Satisfaction surveys and e-mail, pure: signed survey tokens, e-mail template and survey
definitions, template rendering. No I/O here (services.surveys / services.mail do that)."""
from .definition import SurveyDefinition, parse_survey
from .templates import EmailTemplate, parse_email_template, render
from .tokens import TokenError, sign_token, verify_token

__all__ = ["EmailTemplate", "SurveyDefinition", "TokenError", "parse_email_template", "parse_survey", "render",
           "sign_token", "verify_token"]
