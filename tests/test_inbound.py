"""`Inbound` from decrypted XML: every kind we handle, SelectedItems normalised, dedup keys per reliability.md A3."""

from __future__ import annotations

from bot.crypto import parse_xml
from chat.inbound import from_dict, from_payload, to_payload

CARD_EVENT = """<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[ZhangSan]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[key111]]></EventKey><TaskId><![CDATA[taskid111]]></TaskId><CardType><![CDATA[text_notice]]></CardType>
<ResponseCode><![CDATA[RC]]></ResponseCode><AgentID>1</AgentID>
<SelectedItems>{items}</SelectedItems></xml>"""

ONE = "<SelectedItem><QuestionKey><![CDATA[Q1]]></QuestionKey><OptionIds><OptionId><![CDATA[O1]]></OptionId></OptionIds></SelectedItem>"
TWO = (
    "<SelectedItem><QuestionKey><![CDATA[Q1]]></QuestionKey><OptionIds><OptionId>O1</OptionId><OptionId>O2</OptionId>"
    "</OptionIds></SelectedItem><SelectedItem><QuestionKey>Q2</QuestionKey><OptionIds><OptionId>O3</OptionId>"
    "</OptionIds></SelectedItem>"
)


def test_template_card_event_with_one_or_several_selected_items_has_one_shape() -> None:
    one = from_dict(parse_xml(CARD_EVENT.format(items=ONE)))
    two = from_dict(parse_xml(CARD_EVENT.format(items=TWO)))
    assert one.kind == "card_event" and one.task_id == "taskid111" and one.response_code == "RC"
    assert [(s.question_key, s.option_ids) for s in one.selected] == [("Q1", ("O1",))]
    assert [(s.question_key, s.option_ids) for s in two.selected] == [("Q1", ("O1", "O2")), ("Q2", ("O3",))]


def test_location_message_event_and_enter_agent() -> None:
    location = from_dict(
        parse_xml(
            "<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>location</MsgType><Location_X>23.134</Location_X><Location_Y>113.358</Location_Y>"
            "<Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>7</MsgId><AgentID>1</AgentID></xml>"
        )
    )
    assert (location.kind, location.latitude, location.longitude, location.label) == (
        "location",
        23.134,
        113.358,
        "位置信息",
    )
    event = from_dict(
        parse_xml(
            "<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.104</Latitude><Longitude>113.320</Longitude>"
            "<Precision>65.0</Precision><AgentID>1</AgentID></xml>"
        )
    )
    assert (event.kind, event.latitude) == ("location_event", 23.104)
    enter = from_dict(
        parse_xml(
            "<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><AgentID>1</AgentID></xml>"
        )
    )
    assert enter.kind == "enter_agent"


def test_event_dedup_keys_include_every_discriminator() -> None:
    a = from_dict(parse_xml(CARD_EVENT.format(items=ONE)))
    b = from_dict(parse_xml(CARD_EVENT.format(items=ONE).replace("taskid111", "taskid222")))
    c = from_dict(parse_xml(CARD_EVENT.format(items=ONE).replace("key111", "key222")))
    assert len({a.dedup_key(), b.dedup_key(), c.dedup_key()}) == 3  # same user, same second


def test_payload_round_trip_keeps_the_message() -> None:
    msg = from_dict(parse_xml(CARD_EVENT.format(items=TWO)))
    assert from_payload(to_payload(msg)) == msg
