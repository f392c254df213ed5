/** Client names name folders and object keys, so they are as strict as Siebel's mobile client names. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidClientName(name: unknown): name is string {
  return typeof name === 'string' && CLIENT_NAME_PATTERN.test(name);
}
