/** Kernel layer: the only code that touches the native addon (syscalls, fds, options, tcp_info, sysctls). */
export * from './binding';
export * from './fd';
export * from './sockopt';
export * from './options';
export * from './tcpinfo';
export * from './sysctl';
export * from './pidfd';
export * from './proc-net';
export * from './identity';
export * from './runtime-support';
