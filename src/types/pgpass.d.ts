// pgpass (node-postgres' reader of the libpq password file) ships no types.
declare module 'pgpass' {
  /** Calls back with the password file's password for these connection parameters, or undefined. */
  export default function pgPass(params: object, callback: (password: string | undefined) => void): void;
}
