import { strictJsonProblem } from './strict-json';

describe('strictJsonProblem', () => {
  it.each([
    ['{"a":1,"b":[{"c":"x"},{"c":"y"}],"d":{"e":null}}'],
    ['[1, "two", true, null, {"k": "v"}]'],
    ['{"text":"a \\"quoted\\" key: {\\"a\\":1,\\"a\\":2}"}'],
    ['not json'],
  ])('accepts %s', (text) => {
    expect(strictJsonProblem(text)).toBeUndefined();
  });

  it.each([
    ['{"client":"a","client":"b"}', 'the key "client" appears twice in one object'],
    ['{"result":{"ok":true, "ok" : false}}', 'the key "ok" appears twice in one object'],
    ['[{"a":1},{"b":1,"b":2}]', 'the key "b" appears twice in one object'],
    ['{"__proto__":{"admin":true}}', 'the key "__proto__" is not allowed in a request body'],
    ['{"a":{"constructor":{"prototype":{}}}}', 'the key "constructor" is not allowed in a request body'],
    ['{"\\u005f_proto__":1}', 'the key "__proto__" is not allowed in a request body'],
  ])('refuses %s', (text, problem) => {
    expect(strictJsonProblem(text)).toBe(problem);
  });

  it('answers rather than throws on JSON nested as deep as a body may be', () => {
    const deep = '['.repeat(32_000) + ']'.repeat(32_000);
    expect(() => strictJsonProblem(deep)).not.toThrow();
  });
});
