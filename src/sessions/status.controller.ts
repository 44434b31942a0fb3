import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../errors/error-response.dto';
import { StatusResponse } from './dto/status.dto';
import { StatusQuery } from './dto/status.query';
import { StatusService } from './status.service';

/** GET /status, the legacy summary (§4.11). */
@ApiTags('Status')
@Controller()
export class StatusController {
  constructor(private readonly statusService: StatusService) {}

  @Get('status')
  @ApiOperation({ summary: 'Legacy summary of one session: running, partial or stopped' })
  @ApiOkResponse({ type: StatusResponse })
  @ApiErrors(400, 404, 409, 503, 504)
  getStatus(@Query() query: StatusQuery): Promise<StatusResponse> {
    return this.statusService.status(query.ref);
  }
}
