// Errors of the lab Kubernetes API. Each maps to one Kubernetes Status (reason + HTTP code), so the
// store raises them and the HTTP server turns them into Status objects unchanged.

export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: { readonly name?: string; readonly kind?: string };
  readonly code: number;
}

export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly resource?: string;
  readonly objectName?: string;

  constructor(
    message: string,
    fields: { code: number; reason: string; resource?: string; objectName?: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KubeApiError';
    this.code = fields.code;
    this.reason = fields.reason;
    this.resource = fields.resource;
    this.objectName = fields.objectName;
  }

  toStatus(): KubeStatus {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.resource || this.objectName
        ? { details: { name: this.objectName, kind: this.resource } }
        : {}),
      code: this.code,
    };
  }
}

export class NotFoundError extends KubeApiError {
  constructor(resource: string, objectName: string, options?: ErrorOptions) {
    super(
      `${resource} "${objectName}" not found; create it first or check the namespace`,
      { code: 404, reason: 'NotFound', resource, objectName },
      options,
    );
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends KubeApiError {
  constructor(resource: string, objectName: string, options?: ErrorOptions) {
    super(
      `${resource} "${objectName}" already exists; update or patch it instead`,
      { code: 409, reason: 'AlreadyExists', resource, objectName },
      options,
    );
    this.name = 'AlreadyExistsError';
  }
}

/** What a real API server says of a write made over a resourceVersion that is no longer current. */
export const STALE_OBJECT_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export class ConflictError extends KubeApiError {
  constructor(resource: string, objectName: string, message: string, options?: ErrorOptions) {
    super(
      `Operation cannot be fulfilled on ${resource} "${objectName}": ${message}`,
      { code: 409, reason: 'Conflict', resource, objectName },
      options,
    );
    this.name = 'ConflictError';
  }
}

export class InvalidError extends KubeApiError {
  constructor(
    message: string,
    fields: { resource?: string; objectName?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, { code: 422, reason: 'Invalid', ...fields }, options);
    this.name = 'InvalidError';
  }
}

export class BadRequestError extends KubeApiError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { code: 400, reason: 'BadRequest' }, options);
    this.name = 'BadRequestError';
  }
}

export class UnauthorizedError extends KubeApiError {
  constructor(options?: ErrorOptions) {
    super(
      'Unauthorized: send a valid bearer token for this cluster',
      { code: 401, reason: 'Unauthorized' },
      options,
    );
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends KubeApiError {
  constructor(
    message: string,
    fields: { resource?: string; objectName?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, { code: 403, reason: 'Forbidden', ...fields }, options);
    this.name = 'ForbiddenError';
  }
}

export class MethodNotAllowedError extends KubeApiError {
  constructor(method: string, path: string, options?: ErrorOptions) {
    super(
      `the server does not allow ${method} on ${path}`,
      { code: 405, reason: 'MethodNotAllowed' },
      options,
    );
    this.name = 'MethodNotAllowedError';
  }
}

export class UnsupportedMediaTypeError extends KubeApiError {
  readonly contentType: string;

  constructor(contentType: string, detail = 'send JSON or a supported patch type', options?: ErrorOptions) {
    super(
      `the body of the request was in an unknown format (${contentType}): ${detail}`,
      { code: 415, reason: 'UnsupportedMediaType' },
      options,
    );
    this.name = 'UnsupportedMediaTypeError';
    this.contentType = contentType;
  }
}

/** 503 ServiceUnavailable, as a server that cannot serve now answers (overloaded, storage down). */
export class ServiceUnavailableError extends KubeApiError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { code: 503, reason: 'ServiceUnavailable' }, options);
    this.name = 'ServiceUnavailableError';
  }
}

export class GoneError extends KubeApiError {
  constructor(resourceVersion: string, options?: ErrorOptions) {
    super(
      `too old resource version: ${resourceVersion}; list again and watch from the list's resourceVersion`,
      { code: 410, reason: 'Expired' },
      options,
    );
    this.name = 'GoneError';
  }
}
