/**
 * A setting from outside (an environment variable) that is not what it must be. The one
 * configuration error of runbox: the executor's variables and the server's both raise it, so a
 * start-up script catches one class and reads which variable to fix.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  /** The variable at fault, e.g. `RUNBOX_MAX_QUEUE`. */
  readonly variable: string;
  /** What was wrong with it, e.g. `Too big: expected number to be <=100000`. */
  readonly problem: string;
  constructor(variable: string, problem: string) {
    super(`environment variable ${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
    this.problem = problem;
  }
}
