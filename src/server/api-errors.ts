import { Type } from '@fastify/type-provider-typebox';

/**
 * The native APIs' one error body (`{type, code, message, param}`), as every route declares it;
 * `challenge_id` comes with the risk engine's `challenge_required`.
 */
export const apiErrorProperties = {
  type: Type.String({ description: 'The family of the error: invalid_request_error, authentication_error, …' }),
  code: Type.String({ description: 'A stable, machine-readable code from the catalog.' }),
  message: Type.String({ description: 'For people; may change.' }),
  param: Type.Union([Type.String({ description: 'The parameter or header at fault.' }), Type.Null()]),
  challenge_id: Type.Optional(
    Type.String({
      description:
        'With challenge_required: the confirmation texted to the payer; send the request again with it and the code.',
    }),
  ),
};

/** The error responses of a route that declares its schemas inline. */
export const errorResponses = { '4xx': Type.Object(apiErrorProperties), '5xx': Type.Object(apiErrorProperties) };
