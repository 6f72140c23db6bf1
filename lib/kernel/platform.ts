/**
 * Where tcp-vitals works: Linux only (TCP_INFO, SO_COOKIE, SIOCOUTQ and
 * TCP_USER_TIMEOUT are Linux's). Elsewhere (macOS, Windows, FreeBSD) the
 * package installs and loads, the pure model functions work, every function
 * that needs the kernel throws {@link unsupportedPlatformError}, and protect()
 * / `tcp-vitals/register` do nothing and say so once ({@link warnUnsupportedPlatform}).
 */
import { codedError } from '../common/errors';

/** The code of the error every kernel function throws off Linux. */
export const UNSUPPORTED_PLATFORM_CODE = 'ERR_TCP_VITALS_UNSUPPORTED_PLATFORM';
/** The code of protect()'s one warning off Linux (silence it with `--disable-warning=TCP_VITALS_UNSUPPORTED_PLATFORM`). */
export const UNSUPPORTED_PLATFORM_WARNING = 'TCP_VITALS_UNSUPPORTED_PLATFORM';

/** Whether this process runs on a platform tcp-vitals supports (Linux). */
export function platformSupported(): boolean {
  return process.platform === 'linux';
}

/** `ERR_TCP_VITALS_UNSUPPORTED_PLATFORM`: what every kernel function throws off Linux. */
export function unsupportedPlatformError(): Error & { code: string; platform: string } {
  const err = codedError(UNSUPPORTED_PLATFORM_CODE,
    `tcp-vitals needs Linux (TCP_INFO, SO_COOKIE, TCP_USER_TIMEOUT); this is ${process.platform}: `
    + 'its kernel functions are unavailable here (the model functions still work)') as Error & { code: string; platform: string };
  err.platform = process.platform;
  return err;
}

const WARNED = Symbol.for('tcp-vitals.unsupported-platform-warned');

/**
 * Emits, once per process (even with two copies of the package), a warning
 * that `what` does nothing on this platform. Silenceable like any Node
 * warning: `--disable-warning=TCP_VITALS_UNSUPPORTED_PLATFORM`,
 * `--no-warnings`, or `process.on('warning')`.
 */
export function warnUnsupportedPlatform(what: string): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[WARNED]) return;
  Object.defineProperty(g, WARNED, { value: true, enumerable: false });
  process.emitWarning(`tcp-vitals: ${what} does nothing on ${process.platform} (Linux only); connections are not protected`,
    { code: UNSUPPORTED_PLATFORM_WARNING, type: 'TcpVitalsWarning' });
}
