/**
 * Domain errors. Services throw these; src/http/problem-handler.ts maps each class to an
 * HTTP status and problem type in one table, so no service knows about HTTP.
 */
export class DomainError extends Error {
  /** Extra members for the problem document, such as the current version on a conflict. */
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The thing does not exist, or the caller may not know that it exists. */
export class NotFoundError extends DomainError {}
/** The caller is known but their role may not do this. */
export class ForbiddenError extends DomainError {}
/** The request is well-formed but conflicts with the current state (stale version, duplicate name). */
export class ConflictError extends DomainError {}
/** An update arrived without the version it was based on. */
export class PreconditionRequiredError extends DomainError {}
/** A bearer token was sent but is unknown or revoked. */
export class UnauthenticatedError extends DomainError {}

export interface FieldError {
  /** JSON pointer into the request body, e.g. "/victims/0/role". */
  pointer?: string;
  /** Name of the query parameter or header. */
  parameter?: string;
  detail: string;
}

/** Input that passed JSON parsing but not the schema. */
export class ValidationError extends DomainError {
  readonly errors: FieldError[];

  constructor(message: string, errors: FieldError[]) {
    super(message);
    this.errors = errors;
  }
}
