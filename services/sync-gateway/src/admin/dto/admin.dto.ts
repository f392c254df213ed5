import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import type { AddClientRequest, RejectFileRequest } from '@outpost/contracts';

/*
 * The admin API's request bodies: one class each, read by the OpenAPI document and checked by the
 * validation pipe before a handler runs. The registry and inbox-store still apply the domain rules
 * (name format, a file that is not quarantined) and answer with their own codes.
 */

export class AddClientDto implements AddClientRequest {
  @ApiProperty({
    description: "the client's name: 1-64 letters, digits, '_', '.', '-', starting with a letter or digit",
    example: 'bob-laptop',
  })
  @IsString()
  name!: string;

  @ApiProperty({ description: 'login of the user whose data the client receives', example: 'bob' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  userLogin!: string;
}

export class RejectFileDto implements RejectFileRequest {
  @ApiProperty({
    description: 'why the quarantined file is skipped; kept with the file',
    example: 'duplicate of file 7',
  })
  @IsString()
  @MinLength(1)
  reason!: string;
}
