/**
 * An error caused by what the user gave us (a file, a flag, a shape). Its message is one clear sentence that the
 * CLI prints without a stack trace and the extension shows as a notification. Anything that is not a UserError
 * is a bug and is reported as one.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string) {
    // Names read from a file (tensors, nodes) can hold any bytes: control characters are escaped so the message
    // stays one printable line.
    super(message.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}

/** The message of any thrown value, for places that must report without crashing. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A byte count as gigabytes for a refusal's sentence: three significant digits up to 100 GB (so a size just over
 *  a limit does not read as the limit), whole gigabytes in groups of thousands above. */
export function gigabytes(bytes: number): string {
  const gb = bytes / 1e9;
  return `${gb < 100 ? gb.toPrecision(3) : Math.round(gb).toLocaleString('en-US')} GB`;
}
