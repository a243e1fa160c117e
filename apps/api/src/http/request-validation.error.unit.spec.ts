import 'reflect-metadata';
import type { ArgumentMetadata } from '@nestjs/common';
import { CreateCustomerDto } from '../dto/customer.dto';
import { CreateOrderDto } from '../dto/order.dto';
import { titleOf } from './problem-document';
import { RequestValidationError, syntaxErrorOf, type FieldError } from './request-validation.error';
import { createValidationPipe } from './validation.pipe';

const AN_ORDER_LINE = { skuId: 'office-ltsc-professional-plus-2021:PERPETUAL', quantity: 2, billingCycle: 'oneTime' };

async function fieldErrors(body: unknown, metatype: ArgumentMetadata['metatype'], type: ArgumentMetadata['type'] = 'body'): Promise<FieldError[]> {
  try {
    await createValidationPipe().transform(body, { type, metatype });
  } catch (error: unknown) {
    if (error instanceof RequestValidationError) return error.errors;
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('field errors of a refused request', () => {
  it('REQUIRED: a missing member says it is required and nothing else', async () => {
    expect(await fieldErrors({ lineItems: [{ skuId: AN_ORDER_LINE.skuId, billingCycle: 'oneTime' }] }, CreateOrderDto)).toEqual([
      { in: 'body', field: 'lineItems[0].quantity', code: 'REQUIRED', messages: ['lineItems[0].quantity is required'] },
    ]);
  });

  it('TYPE: a quantity sent as text is a type error, not a range error', async () => {
    expect(await fieldErrors({ lineItems: [{ ...AN_ORDER_LINE, quantity: '2' }] }, CreateOrderDto)).toEqual([
      { in: 'body', field: 'lineItems[0].quantity', code: 'TYPE', messages: ['quantity must be an integer number'] },
    ]);
  });

  it('RANGE: a quantity outside 1 to 10,000 names the limit', async () => {
    expect(await fieldErrors({ lineItems: [{ ...AN_ORDER_LINE, quantity: 10_001 }] }, CreateOrderDto)).toEqual([
      {
        in: 'body',
        field: 'lineItems[0].quantity',
        code: 'RANGE',
        messages: ['lineItems[0].quantity must be from 1 to 10000'],
        limit: { minimum: 1, maximum: 10_000 },
      },
    ]);
  });

  it('RANGE: 51 line items name the list limit', async () => {
    const lineItems = Array.from({ length: 51 }, () => AN_ORDER_LINE);
    expect(await fieldErrors({ lineItems }, CreateOrderDto)).toEqual([
      { in: 'body', field: 'lineItems', code: 'RANGE', messages: ['lineItems must be from 1 to 50 items'], limit: { minimum: 1, maximum: 50 } },
    ]);
  });

  it('ENUM: a billing cycle outside the list names the allowed values', async () => {
    const [error] = await fieldErrors({ lineItems: [{ ...AN_ORDER_LINE, billingCycle: 'fortnightly' }] }, CreateOrderDto);
    expect(error).toMatchObject({ in: 'body', field: 'lineItems[0].billingCycle', code: 'ENUM' });
    expect(error!.limit!.allowed).toEqual(expect.arrayContaining(['monthly', 'annual', 'oneTime']));
  });

  it('FORMAT: a tenant id that is no GUID', async () => {
    const body = { id: 'not-a-guid', companyName: 'Contoso', domain: 'contoso.example', country: 'DE' };
    expect(await fieldErrors(body, CreateCustomerDto)).toEqual([
      { in: 'body', field: 'id', code: 'FORMAT', messages: ['id must be a UUID'] },
    ]);
  });

  it('UNKNOWN_MEMBER: a member the contract does not have', async () => {
    expect(await fieldErrors({ lineItems: [AN_ORDER_LINE], discount: 10 }, CreateOrderDto)).toEqual([
      { in: 'body', field: 'discount', code: 'UNKNOWN_MEMBER', messages: ['discount is not a member of this request'] },
    ]);
  });

  it('reports where the value was: a query parameter is in the query', async () => {
    const { ProductsQueryDto } = await import('../dto/list.dto');
    expect(await fieldErrors({}, ProductsQueryDto, 'query')).toEqual([
      { in: 'query', field: 'country', code: 'REQUIRED', messages: ['country is required'] },
    ]);
  });

  it('accepts a country code in any case and hands it on upper case', async () => {
    const customer = await createValidationPipe().transform(
      { id: '3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f', companyName: 'Contoso', domain: 'contoso.example', country: 'de' },
      { type: 'body', metatype: CreateCustomerDto },
    );
    expect(customer).toMatchObject({ country: 'DE' });
  });

  it('SYNTAX: malformed JSON names the line and column where it breaks', () => {
    const body = '{\n  "lineItems": [\n    { "skuId": "x", }\n  ]\n}';
    // Line 3 is `    { "skuId": "x", }`: the closing brace after the trailing comma is its 21st character.
    expect(syntaxErrorOf(body)).toEqual({
      in: 'body',
      field: '',
      code: 'SYNTAX',
      messages: ['the body is not valid JSON: it breaks at line 3, column 21'],
      line: 3,
      column: 21,
    });
  });

  it('SYNTAX: a body cut short breaks after its last character', () => {
    expect(syntaxErrorOf('{"lineItems": [')).toMatchObject({ line: 1, column: 16 });
  });

  it('SYNTAX: a bare word is refused at its first character', () => {
    expect(syntaxErrorOf('{\n "a": x}')).toMatchObject({ line: 2, column: 7 });
  });

  it('an entry raised elsewhere without a reason counts as FORMAT', () => {
    expect(new RequestValidationError([{ in: 'header', field: 'Idempotency-Key', messages: ['too long'] }]).errors).toEqual([
      { in: 'header', field: 'Idempotency-Key', code: 'FORMAT', messages: ['too long'] },
    ]);
  });
});

describe('problem titles', () => {
  it('read in sentence case with acronyms kept', () => {
    expect(titleOf('UNKNOWN_SKU')).toBe('Unknown SKU');
    expect(titleOf('KMS_KEYS_NOT_ALLOWED')).toBe('KMS keys not allowed');
    expect(titleOf('CANCELLATION_WINDOW_CLOSED')).toBe('Cancellation window closed');
  });
});
