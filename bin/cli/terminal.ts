// Where a command's output goes, and its colours: only when the stream is a terminal and the user has
// not asked for none (NO_COLOR, TERM=dumb), so piped output and files stay plain text.
import { styleText } from 'node:util';

export type TextStyle = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface Terminal {
  /** Data and results (what `--json` replaces). */
  out(line: string): void;
  /** Progress, hints and errors: stderr, so stdout stays clean for pipes. */
  note(line: string): void;
  /** Styles text for stdout. */
  styleOut(style: TextStyle, text: string): string;
  /** Styles text for stderr. */
  styleErr(style: TextStyle, text: string): string;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
}

export function createTerminal(
  stdout: OutputStream = process.stdout,
  stderr: OutputStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Terminal {
  const colours = (stream: OutputStream) =>
    stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  const styler = (enabled: boolean) => (style: TextStyle, text: string) =>
    enabled ? styleText(style, text) : text;
  return {
    out: (line) => stdout.write(`${line}\n`),
    note: (line) => stderr.write(`${line}\n`),
    styleOut: styler(colours(stdout)),
    styleErr: styler(colours(stderr)),
    stdout,
    stderr,
  };
}
