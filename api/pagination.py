from rest_framework.pagination import PageNumberPagination


class PageNumberPaginationWithSize(PageNumberPagination):
    """``?page=`` and, for integrations that sync in bulk, ``?page_size=`` up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200
