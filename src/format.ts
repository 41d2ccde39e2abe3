// How the command line writes quantities for people.
import prettyBytes from 'pretty-bytes';

/** A size in bytes as people read it, in powers of 1024: `512 B`, `1.5 MiB`. */
export const size = (bytes: number): string => prettyBytes(bytes, { binary: true });

/** A count as people read it, with thousands separators whatever the locale: `1,234,567`. */
export const number = (n: number): string => n.toLocaleString('en-US');
