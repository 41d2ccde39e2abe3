// The month-boundary simulator: `simulate(loadScenario('original-history'), { db })`.
export { simulate, withOverrides, type Progress, type SimulateOptions } from './run.ts';
export {
  DEFAULT_SCENARIO,
  listScenarios,
  loadScenario,
  needsSessions,
  parseScenario,
  scenarioDir,
  ScenarioError,
  type Scenario,
  type ScenarioEvent,
} from './scenario.ts';
export {
  renderSummary,
  renderTimeline,
  renderViolation,
  type MonthRow,
  type SimulationReport,
  type Summary,
  type ViolationReport,
} from './report.ts';
export { plan, random } from './plan.ts';
export { makeRepro, reproScript, type ScriptInput } from './repro.ts';
export { replay, type ReplayOptions, type ReplayResult } from './replay.ts';
export { createSql, insertSql, SessionState, type Entry } from './journal.ts';
