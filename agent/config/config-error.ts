// The error of a configuration that cannot be used, with every problem found. Its own module so the
// agent can name it without loading the YAML parser and the validators that find the problems.
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid agent configuration:\n  ${problems.join("\n  ")}`);
  }
}
