from source_meetlog.source import SourceMeetlog

__all__ = ["SourceMeetlog"]
