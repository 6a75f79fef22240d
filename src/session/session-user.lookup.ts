/**
 * What the session module needs to know about users; the consuming application implements it (an
 * injectable class given as `userLookup` to `SessionModule.forRoot/forRootAsync`), so the module works with any
 * user store. `TUser` is the shape put on `req.user`: never include a password hash in it.
 */
export abstract class SessionUserLookup<TUser extends object = object> {
  /**
   * Checks a username and password; resolves the user, or null when either is wrong. Implementations should
   * take the same time for an unknown user and a wrong password (compare against a dummy hash).
   */
  abstract validateCredentials(username: string, password: string): Promise<TUser | null>;

  /** Loads a user by the id stored in the session; null when the user no longer exists (the session is then anonymous). */
  abstract findById(id: string): Promise<TUser | null>;

  /** The id to store in the session for this user (converted to a string). */
  abstract getId(user: TUser): string | number;
}
