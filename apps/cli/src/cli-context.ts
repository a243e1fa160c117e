/** What commands may touch of the outside world; tests pass their own. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard error is a terminal: progress bars are drawn there. */
  isTerminal?: boolean;
}
