import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  CloseSessionRequest,
  DownloadAckRequest,
  OpenSessionRequest,
  SchemaRef,
  SyncResult,
  UploadCompleteRequest,
} from '@outpost/contracts';
import { DX_VERSION } from '@outpost/dx-format';
import { Type } from 'class-transformer';
import {
  Equals,
  IsBoolean,
  IsDefined,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';

/*
 * The agent API's JSON bodies: one class each gives the OpenAPI document its schema and the
 * gateway its validation (dtoValidation), so the two cannot drift apart.
 */

export class SchemaRefBody implements SchemaRef {
  @ApiProperty({ example: 'sales' })
  @IsString({ message: 'schema.name must be a string' })
  name!: string;

  @ApiProperty({ example: 2, minimum: 1 })
  @IsInt({ message: 'schema.version must be an integer' })
  @Min(1, { message: 'schema.version must be 1 or more' })
  version!: number;
}

export class OpenSessionBody implements OpenSessionRequest {
  @ApiProperty({ example: 'bob-laptop' })
  @IsString({ message: 'client (string) is required' })
  @IsNotEmpty({ message: 'client (string) is required' })
  client!: string;

  @ApiProperty({ description: 'the client secret issued by sync-admin clients add' })
  @IsString({ message: 'secret (string) is required' })
  @IsNotEmpty({ message: 'secret (string) is required' })
  secret!: string;

  @ApiProperty({ example: '0.1.0' })
  @IsString({ message: 'agentVersion (string) is required' })
  agentVersion!: string;

  @ApiProperty({ description: 'the DX format version the agent writes', example: DX_VERSION })
  @Equals(DX_VERSION, { message: `formatVersion must be ${DX_VERSION}; upgrade the agent` })
  formatVersion!: number;

  @ApiPropertyOptional({
    type: SchemaRefBody,
    description: 'the synced schema the laptop holds; the answer says how to upgrade it',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => SchemaRefBody)
  schema?: SchemaRefBody;
}

export class SyncResultBody implements SyncResult {
  @ApiProperty()
  @IsBoolean({ message: 'result.ok must be a boolean' })
  ok!: boolean;

  @ApiProperty()
  @IsInt({ message: 'result.uploadedFiles must be an integer' })
  @Min(0, { message: 'result.uploadedFiles must be 0 or more' })
  uploadedFiles!: number;

  @ApiProperty()
  @IsInt({ message: 'result.downloadedFiles must be an integer' })
  @Min(0, { message: 'result.downloadedFiles must be 0 or more' })
  downloadedFiles!: number;

  @ApiPropertyOptional({ description: 'kept up to 2,000 characters' })
  @IsOptional()
  @IsString({ message: 'result.message must be a string' })
  message?: string;
}

export class CloseSessionBody implements CloseSessionRequest {
  @ApiProperty({ type: SyncResultBody })
  @IsDefined({ message: 'result is required' })
  @ValidateNested()
  @Type(() => SyncResultBody)
  result!: SyncResultBody;
}

export class DownloadAckBody implements DownloadAckRequest {
  @ApiProperty({ description: 'the extract epoch the files belong to', minimum: 0 })
  @IsInt({ message: 'epoch must be a non-negative integer' })
  @Min(0, { message: 'epoch must be a non-negative integer' })
  epoch!: number;

  @ApiProperty({ description: 'every file up to this one is applied (cumulative)', minimum: 0 })
  @IsInt({ message: 'upToFileSeq must be a non-negative integer' })
  @Min(0, { message: 'upToFileSeq must be a non-negative integer' })
  upToFileSeq!: number;
}

export class UploadCompleteBody implements UploadCompleteRequest {
  @ApiProperty({ description: 'sha256 of the whole file, 64 hex digits' })
  @IsString({ message: 'sha256 must be the 64-hex-digit sha256 of the file' })
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be the 64-hex-digit sha256 of the file' })
  sha256!: string;

  @ApiProperty({
    description: 'size of the whole file in bytes; the parts held must make exactly this',
    minimum: 1,
  })
  @IsInt({ message: 'size must be a whole number of bytes, 1 or more' })
  @Min(1, { message: 'size must be a whole number of bytes, 1 or more' })
  size!: number;
}
