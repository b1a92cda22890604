#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call; these typed forwarders are the whole shim.
typedef size_t (*fruits_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode fruits_curl_set_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode fruits_curl_set_offset(CURL *curl, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode fruits_curl_set_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode fruits_curl_set_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode fruits_curl_set_callback(CURL *curl, CURLoption option, fruits_curl_data_callback value) {
    return curl_easy_setopt(curl, option, value);
}
// CURLOPT_SEEKFUNCTION: libcurl rewinds a request body with it before sending it again.
typedef int (*fruits_curl_seek_callback)(void *context, curl_off_t offset, int origin);

static inline CURLcode fruits_curl_set_seek_callback(CURL *curl, CURLoption option, fruits_curl_seek_callback value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode fruits_curl_get_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}

// The multi interface: curl_multi_setopt is variadic, and CURLMsg keeps its
// result in an anonymous union.
static inline CURLMcode fruits_curl_multi_set_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
static inline CURLcode fruits_curl_message_result(const CURLMsg *message) {
    return message->data.result;
}
