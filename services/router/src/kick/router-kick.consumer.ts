import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { patterns } from '@outpost/contracts';
import { RouteLoop } from '../routing/route-loop';

/** `router.kick` events are wake-ups: their content does not matter, the log says what to route. */
@Controller()
export class RouterKickConsumer {
  constructor(private readonly loop: RouteLoop) {}

  @EventPattern(patterns.routerKick)
  onKick(): void {
    this.loop.wake();
  }
}
