"""Services: what the CLI, the Python API and the main job do, without Rich or Typer.

- `loading`: load and compile a scenario file for a run (`LoadedScenario`), the code version;
- `record`: simulate and record a run (store, report, per-person records), read one back;
- `compare`: both sides of a comparison as stored runs, with common random numbers;
- `sweep`: a grid of scenario variants in blocks of variants x replications, each one flow-engine
  batch (`blocks`), its KPI table and report;
- `prepare`: official data and calibration for a fresh clone;
- `observer`: how a service reports warnings and progress to whoever called it.

The commands in `bordersim.commands` parse arguments, call these and print.
"""
