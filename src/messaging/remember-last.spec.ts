import { rememberLast } from './remember-last';

describe('rememberLast', () => {
  it('makes a value again only when the key changes', () => {
    const made: string[] = [];
    const upper = rememberLast((key) => {
      made.push(key);
      return key.toUpperCase();
    });
    expect(['a', 'a', 'b', 'b', 'a', ''].map(upper)).toEqual(['A', 'A', 'B', 'B', 'A', '']);
    expect(made).toEqual(['a', 'b', 'a', '']);
  });
});
