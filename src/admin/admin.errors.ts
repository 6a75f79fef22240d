/** A dead letter, stream, user or session asked for is not there (the API answers 404). */
export class AdminNotFoundError extends Error {
  override readonly name = 'AdminNotFoundError';
}

/** The action conflicts with one already running (the API answers 409). */
export class AdminBusyError extends Error {
  override readonly name = 'AdminBusyError';
}

/** The feature asked about is not part of this application (the API answers 404 saying so). */
export class AdminFeatureAbsentError extends Error {
  override readonly name = 'AdminFeatureAbsentError';
}
