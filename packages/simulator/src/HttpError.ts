/** An error the simulator answers with its status and an OpenAI-style `{ error }` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly param: string | null = null,
  ) {
    super(message);
  }

  /** A 400 `invalid_request_error` about `param`. */
  static invalid(param: string | null, message: string, code: string | null = null): HttpError {
    return new HttpError(400, 'invalid_request_error', code, message, {}, param);
  }
}
