// How the command line writes quantities for people.
import prettyBytes from 'pretty-bytes';

/** A size in bytes as people read it, in powers of 1024: `512 B`, `1.5 MiB`. */
export const size = (bytes: number): string => prettyBytes(bytes, { binary: true });
