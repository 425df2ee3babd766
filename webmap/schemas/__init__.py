"""The JSON API's data, as pydantic models.

What a request may carry (:mod:`webmap.schemas.requests`: query parameters and JSON bodies)
and what a response holds (:mod:`webmap.schemas.responses`). The views are decorated with
them (:data:`webmap.openapi.api_spec`), which validates requests (and, in tests, responses)
and generates the OpenAPI document from the same models.
"""
