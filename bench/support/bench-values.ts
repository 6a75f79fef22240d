/** A user-shaped JSON value (about 130 bytes) that the cache benchmarks store and read. */
export const USER_VALUE = {
  id: 42,
  username: 'ada.lovelace',
  displayName: 'Ada Lovelace',
  email: 'ada@example.com',
  createdAt: '2026-11-25T16:00:00.000Z',
};
