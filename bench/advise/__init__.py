"""`python -m bench advise DATA`: classical or deep for this data, answered within a budget.

    command.py   the command and its steps: inspect the data, pilot, plan, run, answer, write
    inspect.py   what the data is and what the harness will do with each column (a Profile)
    plan.py      the pilot's readings of each model's cost, and the suite that fits the budget
    answer.py    which family wins, by how much, where the learning curves cross; the caveats
    html.py      the answer as one self-contained page (advice.html)

The cells run through bench.execution.deadline.DeadlineExecutor: the answer's cells first,
none started after the deadline.
"""

from bench.advise.command import cell_threads, parse_budget, run

__all__ = ["cell_threads", "parse_budget", "run"]
