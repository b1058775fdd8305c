/** Reading AWS SDK errors, which carry their code as `name` (and sometimes `Code`). */

/** The AWS error code (`InvalidGroup.Duplicate`, `ThrottlingException`, …) or the error's name. */
export function errorName(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { Code?: unknown }).Code;
    return typeof code === 'string' && code !== '' ? code : error.name;
  }
  return 'Error';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
