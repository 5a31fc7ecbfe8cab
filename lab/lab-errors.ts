// Errors of the lab fleet as a whole (starting, settling); the Kubernetes API has its own in lab/kube.

export class LabError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LabError';
  }
}

export class LabOptionsError extends LabError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string, options?: ErrorOptions) {
    super(`lab option ${option} must be ${expected}, got ${JSON.stringify(value)}; fix the option`, options);
    this.name = 'LabOptionsError';
    this.option = option;
    this.value = value;
  }
}

export class LabNotSettledError extends LabError {
  /** What was still missing when the time ran out, e.g. "lab-2: 3 pods without a certificate". */
  readonly waitingFor: readonly string[];

  constructor(timeoutMs: number, waitingFor: readonly string[], options?: ErrorOptions) {
    super(
      `the lab did not settle within ${timeoutMs} ms: ${waitingFor.join('; ')}. ` +
        'Give it more time (settleTimeoutMs) or look at the istiod model rejections.',
      options,
    );
    this.name = 'LabNotSettledError';
    this.waitingFor = waitingFor;
  }
}
