from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from starlette.concurrency import run_in_threadpool

from casecast.serving.dependencies import PredictCaller, ServicesDep
from casecast.serving.routes import errors
from casecast.serving.schemas import DocumentText

router = APIRouter(prefix="/v1/documents", tags=["documents"])
UPLOAD_PATH = "/v1/documents/text"


@router.post("/text", response_model=DocumentText, responses=errors(400, 413, 415, 422, 503))
async def document_text(
    file: Annotated[UploadFile, File(description="a .txt, .pdf or .docx file")],
    services: ServicesDep,
    _: PredictCaller,
) -> DocumentText:
    """The text of an uploaded case file, to check and send to prediction or search. Every
    file is read within ceilings (size as sent and inflated, pages, characters, memory,
    time) in a worker process of its own; past one, a 4xx names it."""
    data = await file.read()
    extracted = await run_in_threadpool(
        services.documents.read, file.filename or "", file.content_type, data
    )
    return DocumentText(text=extracted.text, pages=extracted.pages, kind=extracted.kind)
