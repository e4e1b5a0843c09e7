"""``/api/v1``: the OpenAPI document, its documentation page, and the API's set-up.

The resources are flask-smorest blueprints (see ``resources.py``); registering this plain
blueprint sets flask-smorest up on the app and registers them under ``/api/v1``, so
``create_app`` needs one ``register_blueprint`` line like every other domain."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_smorest import Api

from lms.api import content, resources, schemas
from lms.auth.access import public

API_PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


class LmsApi(Api):
    """flask-smorest's Api, documenting our one error shape as the default error."""

    ERROR_SCHEMA = schemas.ApiErrorSchema


@bp.record_once
def set_up_api(state) -> None:
    """Create the flask-smorest Api on the app and register the resource blueprints."""
    app = state.app
    app.config.setdefault("API_TITLE", "Certification-readiness LMS API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # we serve the document ourselves
    api = LmsApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Personal access tokens (Authorization: Bearer lms_pat_...) "
                "are created by admins on /admin/tokens. Read tokens read; write tokens "
                "also record completions and issue certificates; content:write tokens "
                "also create and change courses, modules and lessons."
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(resources.people, url_prefix=API_PREFIX)
    api.register_blueprint(resources.records, url_prefix=API_PREFIX)
    api.register_blueprint(content.content, url_prefix=API_PREFIX)
    app.extensions["lms_api"] = api


# Answers every operation can give, whatever it does: a request of the wrong shape, no or a
# bad token, a token whose scope or owner may not.
COMMON_ERRORS = {
    "400": "The request could not be read (a value of the wrong type, a bad filter).",
    "401": "No token, or an unknown, expired or revoked one.",
    "403": "The token's owner may not use the API, or the call needs another scope.",
}


def _with_common_errors(spec: dict) -> dict:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if operation.get("security") == []:  # a public operation: no token to refuse
                continue
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(status, {"description": description, "content": error})
    return spec


def openapi_document() -> dict:
    """The OpenAPI 3 document generated from the schemas the endpoints validate with."""
    return _with_common_errors(current_app.extensions["lms_api"].spec.to_dict())


@bp.get("/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3 document of API v1."""
    return jsonify(openapi_document())


@bp.get("/docs")
@public
def docs():
    """The API documented for people, rendered on the server from the OpenAPI document."""
    spec = openapi_document()
    operations = [
        {"path": path, "method": method.upper(), **operation}
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return render_template(
        "api/docs.html", spec=spec, operations=operations, schemas=spec["components"]["schemas"]
    )
