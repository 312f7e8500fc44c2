"""Arca for Python: push, pull, parameter-based persistence and run outputs against an Arca registry."""
from ._outputs import OutputPull, OutputResult
from .client import Client, Version
from .errors import (AliasInUse, AlreadyExists, ArcaError, ChecksumMismatch, ClientError, Conflict, Forbidden,
                     Internal, NetworkError, NotFound, PayloadTooLarge, PreconditionFailed, Throttled, Unauthorized,
                     UploadIncomplete, ValidationError, VersionCapReached, VersionNotReady, VersionPublished)
from .params import params_hash
from .persist import PayloadInvalid, joblib_load, joblib_save, pickle_load, pickle_save
from .runs import Flow, Run, RunData

__all__ = ["Client", "Version", "Flow", "Run", "RunData", "OutputResult", "OutputPull", "params_hash", "pickle_save", "pickle_load", "joblib_save", "joblib_load",
           "ArcaError", "ValidationError", "Unauthorized", "Forbidden", "NotFound", "Conflict", "AlreadyExists",
           "VersionCapReached", "VersionPublished", "VersionNotReady", "AliasInUse", "UploadIncomplete",
           "PreconditionFailed", "PayloadTooLarge", "ChecksumMismatch", "Throttled", "Internal", "NetworkError",
           "ClientError", "PayloadInvalid"]
