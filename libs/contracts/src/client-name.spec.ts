import { isValidClientName } from './client-name';

describe('isValidClientName', () => {
  it.each(['a', 'Laptop-01', 'jdoe.laptop_2', '9', 'x'.repeat(64)])('accepts %p', (name) => {
    expect(isValidClientName(name)).toBe(true);
  });
  it.each(['', '-a', '.a', '_a', 'a b', 'a/b', 'é', 'x'.repeat(65), 42, null])('refuses %p', (name) => {
    expect(isValidClientName(name)).toBe(false);
  });
});
