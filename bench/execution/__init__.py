"""Execution: from `bench run` to a row, every cell isolated and measured.

    runner.run(suite)                       plan the cells, skip the finished ones (resume),
      │                                     pick the thread layout, append each row as it ends
      ▼
    executor.run(cells)                     executors.Executor, found by name (@executor):
      │                                     "local" (local.py): N cells at once on this machine
      │                                     "dask" (dask_cluster.py): one Dask task per cell
      ▼
    isolate.run_isolated(cell)              a fresh process forked from a warm worker server
      │                                     (server.py; lean, or with torch for the models that
      │                                     need it; preload.py), under the cell's time limit
      │                                     and memory cap; a crash, hang or kill becomes the
      │                                     row's status
      ▼
    cell.run_cell(cell)  (in the child)     data, split, preprocessing fitted on training rows,
                                            fit, predict, scores, times, memory, size -> row

The rows go to `bench.results` (append-only, resumable); the report and the regression
check read only those rows.
"""
