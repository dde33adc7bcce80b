"""Questionnaire answers computed from the checks (not from documents)."""

from pathlib import Path

from stagewall.evidence._model import Evaluation
from stagewall.evidence.questionnaire._answers import Answer, Confidence, Value, answer
from stagewall.evidence.questionnaire._files import (
    UNMATCHED,
    Filled,
    builtin_answers,
    fill_file,
    write_builtin,
)
from stagewall.evidence.questionnaire._sets import (
    CAIQ_IDS,
    QUESTION_SETS,
    Match,
    Question,
    match_question,
)


def answer_questionnaire(questionnaire: str, evaluation: Evaluation, out: Path) -> list[Filled]:
    """A built-in set's name or a customer's .xlsx/.csv file, answered into ``out``."""
    if questionnaire in QUESTION_SETS:
        return write_builtin(questionnaire, evaluation, out)
    return fill_file(questionnaire, evaluation, out)


__all__ = [
    "CAIQ_IDS",
    "QUESTION_SETS",
    "UNMATCHED",
    "Answer",
    "Confidence",
    "Filled",
    "Match",
    "Question",
    "Value",
    "answer",
    "answer_questionnaire",
    "builtin_answers",
    "fill_file",
    "match_question",
    "write_builtin",
]
