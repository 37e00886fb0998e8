/** The `code` of a dashboard API error: what went wrong, for a script to branch on. */
export type DashboardErrorCode =
  | "ERR_PQ_DASHBOARD_BAD_INPUT"
  | "ERR_PQ_DASHBOARD_FORBIDDEN"
  | "ERR_PQ_DASHBOARD_READ_ONLY"
  | "ERR_PQ_DASHBOARD_CSRF"
  | "ERR_PQ_DASHBOARD_NOT_FOUND"
  | "ERR_PQ_DASHBOARD_METHOD"
  | "ERR_PQ_DASHBOARD_CONFLICT"
  | "ERR_PQ_DASHBOARD_INTERNAL";

/** The body of every API error response: `{ error: { code, message, field? } }`. */
export interface DashboardErrorBody {
  readonly error: {
    readonly code: DashboardErrorCode;
    /** What to change. */
    readonly message: string;
    /** The query parameter or body field at fault, for bad input. */
    readonly field?: string;
  };
}

/** An API request the dashboard refuses; the handler turns it into a JSON response. */
export class DashboardHttpError extends Error {
  readonly status: number;
  readonly code: DashboardErrorCode;
  readonly field: string | undefined;

  constructor(status: number, code: DashboardErrorCode, message: string, field?: string) {
    super(message);
    this.name = "DashboardHttpError";
    this.status = status;
    this.code = code;
    this.field = field;
  }

  toBody(): DashboardErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field !== undefined && { field: this.field }),
      },
    };
  }
}

/** A 400 for query parameter or body field `field`. */
export const badInput = (field: string, message: string) =>
  new DashboardHttpError(400, "ERR_PQ_DASHBOARD_BAD_INPUT", `${field}: ${message}`, field);
