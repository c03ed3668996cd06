"""Errors a user can fix: their message is shown to them as it is (Chinese, with usage and an example)."""


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Also raised for records out of the user's scope: out of scope looks exactly like missing."""


class Forbidden(DomainError):
    pass
