/** Catching the library's errors in tests: anything thrown that is not a ZeroLMError fails the test. */
import { ZeroLMError } from '../../src/errors';

/** The ZeroLMError `action` throws, or undefined when it throws nothing. */
export function caughtZeroLMError(action: () => unknown): ZeroLMError | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ZeroLMError);
    return error as ZeroLMError;
  }
  return undefined;
}

/** The ZeroLMError `action` throws; fails the test when it throws nothing. */
export function zerolmErrorOf(action: () => unknown): ZeroLMError {
  const error = caughtZeroLMError(action);
  if (error === undefined) throw new Error('expected a ZeroLMError, nothing was thrown');
  return error;
}

/** The ZeroLMError the promise `action` returns rejects with; fails the test when it settles without one. */
export async function zerolmRejectionOf(action: () => Promise<unknown>): Promise<ZeroLMError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(ZeroLMError);
    return error as ZeroLMError;
  }
  throw new Error('expected a ZeroLMError, the promise resolved');
}
