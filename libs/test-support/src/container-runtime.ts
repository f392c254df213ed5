/**
 * Whether testcontainers can reach a container runtime (Docker, Podman, a remote DOCKER_HOST).
 * testcontainers answers in well under a second when there is none; the timeout only guards
 * against a daemon that accepts the connection and never replies.
 */
export async function isContainerRuntimeReachable(timeoutMs = 5_000): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  const probe = getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
