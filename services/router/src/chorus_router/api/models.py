"""`GET /v1/models`: every model id some enabled provider serves, in OpenAI's list shape."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from chorus_contracts import UnknownModel
from chorus_router.api.services import RouterServices, get_services
from chorus_router.identity import Scope
from chorus_router.security import require

router = APIRouter(dependencies=[Depends(require(Scope.SPEECH))])


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


def _model_objects(services: RouterServices) -> list[ModelObject]:
    return [
        ModelObject(id=model, owned_by=",".join(h.name for h in services.pool.serving(model)))
        for model in services.pool.models()
    ]


@router.get("/v1/models")
async def list_models(services: Annotated[RouterServices, Depends(get_services)]) -> ModelList:
    return ModelList(data=_model_objects(services))


@router.get("/v1/models/{model_id}")
async def retrieve_model(
    model_id: str, services: Annotated[RouterServices, Depends(get_services)]
) -> ModelObject:
    for model in _model_objects(services):
        if model.id == model_id:
            return model
    raise UnknownModel(f"The model '{model_id}' does not exist.", param="model")
